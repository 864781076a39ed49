"""Server-rendered pages for provincial staff."""
