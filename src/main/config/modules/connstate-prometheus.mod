# Jetty module of jetty-connstate (see README.md). The build writes the versions below from
# its pom (mvn package): the ones it is built and tested with.

[description]
Serves the connstate module's connection metrics (open connections by
state, connection duration, time to first request, idle time, requests per
connection, hijacks, keep-alive races, rejections, TLS handshakes) as
Prometheus text at jetty.connstate.prometheus.path (default /metrics), to
loopback clients and jetty.connstate.status.allow. Fetches Micrometer and its
Prometheus registry from Maven Central into lib/connstate/prometheus/.

[tags]
monitoring
metrics

[depend]
connstate

[files]
maven://io.micrometer/micrometer-commons/@micrometer.version@|lib/connstate/prometheus/micrometer-commons-@micrometer.version@.jar
maven://io.micrometer/micrometer-observation/@micrometer.version@|lib/connstate/prometheus/micrometer-observation-@micrometer.version@.jar
maven://io.micrometer/micrometer-core/@micrometer.version@|lib/connstate/prometheus/micrometer-core-@micrometer.version@.jar
maven://io.micrometer/micrometer-registry-prometheus/@micrometer.version@|lib/connstate/prometheus/micrometer-registry-prometheus-@micrometer.version@.jar
maven://io.prometheus/prometheus-metrics-model/@prometheus-metrics.version@|lib/connstate/prometheus/prometheus-metrics-model-@prometheus-metrics.version@.jar
maven://io.prometheus/prometheus-metrics-config/@prometheus-metrics.version@|lib/connstate/prometheus/prometheus-metrics-config-@prometheus-metrics.version@.jar
maven://io.prometheus/prometheus-metrics-core/@prometheus-metrics.version@|lib/connstate/prometheus/prometheus-metrics-core-@prometheus-metrics.version@.jar
maven://io.prometheus/prometheus-metrics-tracer-common/@prometheus-metrics.version@|lib/connstate/prometheus/prometheus-metrics-tracer-common-@prometheus-metrics.version@.jar
maven://io.prometheus/prometheus-metrics-exposition-textformats/@prometheus-metrics.version@|lib/connstate/prometheus/prometheus-metrics-exposition-textformats-@prometheus-metrics.version@.jar
maven://io.prometheus/prometheus-metrics-exposition-formats/@prometheus-metrics.version@|lib/connstate/prometheus/prometheus-metrics-exposition-formats-@prometheus-metrics.version@.jar

[lib]
lib/connstate/prometheus/micrometer-commons-@micrometer.version@.jar
lib/connstate/prometheus/micrometer-observation-@micrometer.version@.jar
lib/connstate/prometheus/micrometer-core-@micrometer.version@.jar
lib/connstate/prometheus/micrometer-registry-prometheus-@micrometer.version@.jar
lib/connstate/prometheus/prometheus-metrics-model-@prometheus-metrics.version@.jar
lib/connstate/prometheus/prometheus-metrics-config-@prometheus-metrics.version@.jar
lib/connstate/prometheus/prometheus-metrics-core-@prometheus-metrics.version@.jar
lib/connstate/prometheus/prometheus-metrics-tracer-common-@prometheus-metrics.version@.jar
lib/connstate/prometheus/prometheus-metrics-exposition-textformats-@prometheus-metrics.version@.jar
lib/connstate/prometheus/prometheus-metrics-exposition-formats-@prometheus-metrics.version@.jar

[xml]
etc/jetty-connstate-prometheus.xml

[license]
Micrometer and the Prometheus Java client are distributed under the Apache License 2.0.
https://github.com/micrometer-metrics/micrometer/blob/main/LICENSE
https://github.com/prometheus/client_java/blob/main/LICENSE

[ini-template]
#tag::documentation[]
## The path of the connection metrics as Prometheus text, e.g. /metrics: the
## text format 0.0.4, or OpenMetrics or protobuf when the scraper's Accept
## header asks for them; never cached. Only loopback clients and the addresses
## of jetty.connstate.status.allow (see connstate.ini) may read it; others get
## 403. It must start with / and differ from jetty.connstate.status.path.
#jetty.connstate.prometheus.path=/metrics
#end::documentation[]
