-- The echo app's load: a 1 KB POST body on every request.
wrk.method = "POST"
wrk.body = string.rep("e", 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
