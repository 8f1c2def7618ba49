"""The domain core below the features: who may see what (access), what we know of a client (facts),
and the local copy of WeCom's contacts, groups and staff (directory). Imports no feature package."""
