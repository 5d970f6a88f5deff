-- wrk's done() hook for the bench scripts: one line of JSON with the figures they tabulate (latencies in µs).
-- A request script sets wrk.method, wrk.body and wrk.headers, then `dofile`s this file.
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format('{"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
        summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
        latency:percentile(50), latency:percentile(99)))
end
