# Jetty module of jetty-connstate (see README.md). The build writes the version below from
# its pom (mvn package): the one it is built and tested with, through the newest OpenTelemetry
# Java agent too.

[description]
Reports the connstate module's connection metrics through OpenTelemetry, on
GlobalOpenTelemetry, which the OpenTelemetry Java agent sets up: attach it to
the JVM that runs Jetty (java -javaagent:opentelemetry-javaagent.jar -jar
$JETTY_HOME/start.jar). Turns jetty.connstate.otel on and fetches the
OpenTelemetry API @opentelemetry.version@ from Maven Central into
lib/connstate/otel/.

[tags]
monitoring
metrics

[depend]
connstate

[files]
maven://io.opentelemetry/opentelemetry-common/@opentelemetry.version@|lib/connstate/otel/opentelemetry-common-@opentelemetry.version@.jar
maven://io.opentelemetry/opentelemetry-context/@opentelemetry.version@|lib/connstate/otel/opentelemetry-context-@opentelemetry.version@.jar
maven://io.opentelemetry/opentelemetry-api/@opentelemetry.version@|lib/connstate/otel/opentelemetry-api-@opentelemetry.version@.jar

[lib]
lib/connstate/otel/opentelemetry-common-@opentelemetry.version@.jar
lib/connstate/otel/opentelemetry-context-@opentelemetry.version@.jar
lib/connstate/otel/opentelemetry-api-@opentelemetry.version@.jar

[ini]
jetty.connstate.otel=true

[license]
The OpenTelemetry API is distributed under the Apache License 2.0.
https://github.com/open-telemetry/opentelemetry-java/blob/main/LICENSE

[ini-template]
#tag::documentation[]
## With this module, jetty.connstate.otel is true. The metrics leave the JVM
## through the OpenTelemetry Java agent, attached to the JVM that runs Jetty:
##   java -javaagent:/path/to/opentelemetry-javaagent.jar \
##        -Dotel.service.name=jetty -Dotel.exporter.otlp.endpoint=http://collector:4318 \
##        -jar $JETTY_HOME/start.jar
## To keep the agent in the base: put --exec and the -javaagent:... line in a
## start.d/*.ini (start.jar then runs Jetty in a JVM of its own with it).
#end::documentation[]
