"""The shipped reader weights (fp16 safetensors + config) and their model card."""
