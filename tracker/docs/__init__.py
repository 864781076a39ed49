"""The API's documentation: error responses completed in the OpenAPI document,
and a browsable page of it served by the app itself (no CDN, no script)."""
