"""Stage store: Transcripts and Failures -> Elasticsearch. The client, the index design
(templates, versioned indices behind an alias), the bulk writer, dead letters,
blue/green reindex, search and Kibana objects."""
