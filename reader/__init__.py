"""newsbot's own reading-comprehension model: trained here (reader.training), shipped in reader/weights."""
