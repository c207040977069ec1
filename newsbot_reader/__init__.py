"""newsbot's own reading-comprehension model: trained here (newsbot_reader.training), shipped in newsbot_reader/weights."""
