"""The scoring app's REST API: `serializers`, `filters` and `views` (registered in
`creditportal/api_router.py`)."""
