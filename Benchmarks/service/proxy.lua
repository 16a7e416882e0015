-- wrk: GET through /v1/proxy with an API key.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SIGIL_KEY")
