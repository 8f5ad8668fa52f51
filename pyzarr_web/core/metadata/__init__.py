"""JSON → validated, typed metadata (v2, v3, consolidated): the only part of the reader that
trusts nothing. :mod:`.documents` bounds the bytes before parsing, :mod:`.fields` checks each
value, :mod:`.model` builds the metadata objects."""
