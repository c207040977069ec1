"""Arrivals: watching folders and polling feeds, so new articles are indexed as they come."""
