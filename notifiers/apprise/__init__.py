"""Any other service through Apprise: ntfy, Matrix, Slack, Teams, e-mail, Pushover, Gotify…"""
