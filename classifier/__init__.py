"""swarmlens's core: vocabulary, settings, errors, text, posts, the model, batch scoring,
analytics and the command line. ``serve`` and ``annotation`` import from here, never the
reverse. See docs/architecture.md for the map."""
