"""Photos: content-addressed, resumable uploads, checked by decoding."""
