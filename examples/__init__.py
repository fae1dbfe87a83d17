"""Web apps that produce tasks: a Flask app and a Django project."""
