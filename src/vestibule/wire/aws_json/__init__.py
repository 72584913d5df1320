"""AWS JSON 1.1 (`X-Amz-Target: <prefix>.<Operation>`, JSON in and out): Identity Store, SSO Admin."""
