"""Text handling: normalisation, entities (hashtags, URLs, mentions), language id, tokenizer."""
