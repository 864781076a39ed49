"""Files in and out: spreadsheet reading, streaming XLSX/CSV exports."""
