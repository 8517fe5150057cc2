# Jetty module of jetty-connstate: https://github.com/ (see README.md)

[description]
Reports the state of every client connection, as Go's http.Server.ConnState
hook does: new, active, idle, hijacked, closed. Sinks: a log line per
transition (log), a JSON Lines file of transitions (jsonl) and/or a JSON
Lines file of one record per connection (connlog); user listeners may be
added by class name. Works on every connector (http, https, http2, h2c,
proxy-protocol, ...), whatever the order of the modules.

[tags]
connector
server
monitoring

[depend]
server

# The tracker attaches to the connectors when the server starts, so the order
# of the modules does not matter for correctness. These lines only make the
# order of the generated XML files predictable: connstate comes after the
# modules that create connectors and HttpConfigurations.
[after]
http-config
http
http-forwarded
ssl
https
alpn
http2
http2c
http3
proxy-protocol
proxy-protocol-ssl
unixdomain-http
fcgi
forwarded
rewrite-customizer

[lib]
lib/connstate/*.jar

[xml]
etc/jetty-connstate.xml

[files]
logs/

[ini-template]
#tag::documentation[]
## The sinks that receive every transition, a comma-separated list:
##   log     - one log line per transition (SLF4J, see jetty.connstate.log.*)
##   jsonl   - one JSON object per line and per transition (see jetty.connstate.jsonl.file)
##   connlog - one JSON object per line and per connection, when it ends
##             (see jetty.connstate.connlog.file)
##   NAME    - a sink from a jar in lib/connstate/ (a dev.connstate.sink.ConnStateSinkProvider);
##             its own settings are jetty.connstate.NAME.KEY (as system properties, or passed
##             by its own module's XML)
## Blank is allowed if jetty.connstate.listeners names a listener, or to count only
## (no event is written): the counts are then read through JMX (the jmx module), the
## connection table (jetty.connstate.status.path), Prometheus (the connstate-prometheus
## module) or OpenTelemetry (jetty.connstate.otel), one of which must be on.
#jetty.connstate.sinks=log

## The logger of the log sink (its level must allow INFO).
#jetty.connstate.log.logger=connstate

## The line of the log sink. Placeholders: {id} {remote} {local} {state} {prev}
## {protocol} {secure} {requests} {prevMs} {ageMs} {reason} {race} {tls} {cipher} {sni};
## an unknown one stops the server. Control characters in values are escaped.
#jetty.connstate.log.format=Client: {remote} - new state: {state} (id {id})

## The file of the jsonl sink, relative to jetty.base (parent directories are
## created), or - for standard output. Lines are flushed whenever the sink has
## written all it was given. As with Jetty's request log, yyyy_mm_dd in the
## file's name (e.g. logs/connstate-yyyy_mm_dd.jsonl) is replaced by the date,
## and a new file is begun after midnight: a line is never split across files.
#jetty.connstate.jsonl.file=logs/connstate.jsonl

## The date that replaces yyyy_mm_dd in the jsonl file's name (SimpleDateFormat
## syntax). It must name the year, month and day.
#jetty.connstate.jsonl.filenameDateFormat=yyyy_MM_dd

## How many days of jsonl files to keep besides today's, if the name holds
## yyyy_mm_dd: older ones (by the date in their name) are deleted at start and
## at each new day. 0 keeps them all.
#jetty.connstate.jsonl.retainDays=90

## Whether to append to an existing jsonl file (true), or to rename it first
## to NAME.HHmmssSSS, with the time (false).
#jetty.connstate.jsonl.append=true

## The time zone of the date in the jsonl file's name and of its midnight
## (e.g. GMT, UTC, Europe/Paris, +01:00).
#jetty.connstate.jsonl.rollover.timezone=GMT

## The file of the connlog sink, relative to jetty.base (parent directories
## are created), or - for standard output: one JSON object per line and per
## connection, written when the connection ends. Lines are flushed as the
## jsonl sink's are. yyyy_mm_dd in the file's name is replaced by the date, and
## a new file is begun after midnight: by default, a file a day.
#jetty.connstate.connlog.file=logs/connlog-yyyy_mm_dd.jsonl

## The date that replaces yyyy_mm_dd in the connlog file's name (SimpleDateFormat
## syntax). It must name the year, month and day.
#jetty.connstate.connlog.filenameDateFormat=yyyy_MM_dd

## How many days of connlog files to keep besides today's, if the name holds
## yyyy_mm_dd: older ones (by the date in their name) are deleted at start and
## at each new day. 0 keeps them all.
#jetty.connstate.connlog.retainDays=90

## Whether to append to an existing connlog file (true), or to rename it first
## to NAME.HHmmssSSS, with the time (false).
#jetty.connstate.connlog.append=true

## The time zone of the date in the connlog file's name and of its midnight
## (e.g. GMT, UTC, Europe/Paris, +01:00).
#jetty.connstate.connlog.rollover.timezone=GMT

## Class names of your own dev.connstate.ConnStateListener implementations,
## comma-separated. Each needs a public no-argument constructor, its jar in
## $JETTY_BASE/lib/connstate/, and runs queued on a thread of its own.
#jetty.connstate.listeners=

## How many events each sink and listener may have waiting (1 to 1073741824);
## when its queue is full, events are dropped and counted (JMX: QueuedListener
## dropped).
#jetty.connstate.queue.capacity=8192

## The path of the live connection table, e.g. /connstate. Blank: no table. It
## serves JSON (counts per state, one row per open connection), an HTML page to
## browsers (Accept: text/html; ?refresh=N reloads it every N seconds), and
## nginx's stub_status text; ?format=json|html|stub_status forces one.
#jetty.connstate.status.path=

## Who may read the table (and the connstate-prometheus module's metrics)
## besides loopback clients: addresses, CIDR ranges (10.0.0.0/8) or ranges
## (10.0.0.1-10.0.0.9), comma-separated. Others get 403.
#jetty.connstate.status.allow=

## How many rows each state of the table shows at most (1 to 1000000): above it,
## the connections longest in their state, and the table says it cut rows.
#jetty.connstate.status.maxRows=1000

## How long (ms) a connection may stay idle before the server closes it, with
## close reason keep_alive_timeout (Kestrel's name): HTTP/1 between requests,
## HTTP/2 with no stream open (closed with a GOAWAY). The connector's idle
## timeout keeps applying in every other state; this may be shorter or longer.
## Set it above your load balancer's idle timeout (AWS ALB 60 s, nginx upstream
## keepalive_timeout 60 s, GCP 600 s), e.g. 75000 behind an ALB. Before closing,
## the server looks for a request's bytes; a request that arrives after the
## close began is refused, never handled, and counted as a keep-alive race
## (JMX keepAliveRaces, metric http.server.connection.keep_alive_races,
## "race":true in the jsonl record). Blank: the connector's idle timeout closes
## idle connections, as in plain Jetty.
#jetty.connstate.keepAliveTimeout=

## How long (ms) a request head may take before the server closes the
## connection, with close reason request_header_timeout (Kestrel's name; Go's
## ReadHeaderTimeout): a connection's first request must be complete within
## this time of its accept (the TLS handshake, the PROXY header and the HTTP/1
## head, or the first HTTP/2 HEADERS); every later HTTP/1 request head within
## this time of its first byte. A request that reached the handler is never
## cut, and bodies are not timed. It stops clients that connect and send
## nothing, or a byte at a time, which the connector's idle timeout lets stay.
## Blank or 0: off.
#jetty.connstate.requestHeaderTimeout=

## How many connections one client address may hold open. The client is the
## connection's peer, or the PROXY protocol's client once its header is read;
## never X-Forwarded-For. A connection over a cap is closed when it opens,
## before any request byte is read: new, then closed with reason client_limit,
## counted in JMX rejectedConnections and the metric
## http.server.connection.rejected. 0: no cap.
#jetty.connstate.client.maxConnections=0

## How many connections one client address may hold in state new (accepted,
## no request yet); the client and the refusal as for client.maxConnections.
## 0: no cap.
#jetty.connstate.client.maxNew=0

## Client addresses that neither cap counts (your load balancers, say):
## addresses, CIDR ranges (10.0.0.0/8) or ranges (10.0.0.1-10.0.0.9),
## comma-separated.
#jetty.connstate.client.exempt=

## Drain the connections when Jetty stops gracefully (jetty.server.stopTimeout > 0),
## as Go's Server.Shutdown does: stop accepting, close idle connections at once,
## serve requests in flight with Connection: close, send HTTP/2 a GOAWAY, close
## new connections that sent no request after jetty.connstate.drain.newGrace ms.
## Jetty's GracefulHandler (graceful module), which answers 503, is taken out.
#jetty.connstate.drain=true

## How old (ms, from its accept) a new connection without a request may grow
## during a drain before it is closed.
#jetty.connstate.drain.newGrace=5000

## Report connection metrics through OpenTelemetry (true or false), on
## GlobalOpenTelemetry, which the OpenTelemetry Java agent sets up (see
## docs/metrics.md). Needs the OpenTelemetry API: the connstate-otel module
## (--add-modules=connstate-otel) fetches it and turns this on.
#jetty.connstate.otel=false
#end::documentation[]
