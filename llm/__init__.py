"""The desk's language-model layer: the offline router, entity extraction and the offline chat model."""
