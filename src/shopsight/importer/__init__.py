"""importer package."""
