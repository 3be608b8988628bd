"""The web console (issue #19): server-rendered pages for the people of the notices, a client
of the services' own HTTP APIs with the signed-in person's token."""
