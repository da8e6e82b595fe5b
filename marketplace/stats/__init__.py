"""The programme's public statistics (/statystyki): counts of PES, offerings, quality marks and inquiries,
drawn as server-side SVG charts with tables beside them and downloadable as CSV, for the regional office's
reports."""
