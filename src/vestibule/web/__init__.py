"""Web pages: thin routes per flow, Jinja templates, English and Traditional Chinese."""
