"""The scoring app's REST API: serializers, filters and viewsets (registered in
`creditportal/api.py`)."""
