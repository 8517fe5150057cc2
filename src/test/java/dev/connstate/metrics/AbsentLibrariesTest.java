package dev.connstate.metrics;

import java.util.List;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Without Micrometer and OpenTelemetry on the class path (a Jetty where nobody brought them), the
 * tracker works and not one class of the integrations or of the libraries is even asked for;
 * turning the OpenTelemetry switch on then fails with a line naming the property and the value.
 */
public class AbsentLibrariesTest
{
    private static final List<String> METRICS = List.of("io.micrometer.", "io.opentelemetry.", "io.prometheus.",
        "dev.connstate.micrometer.", "dev.connstate.metrics.ConnectionKind", "dev.connstate.metrics.MetricsListener",
        "dev.connstate.metrics.OpenConnectionCounts", "dev.connstate.otel.ConnStateOtelMetrics", "dev.connstate.otel.OtelInstruments");

    @Test
    public void aPlainTrackerAndTheSwitchOffLoadNothingOfThem() throws Exception
    {
        try (WithoutMetricsLibraries loader = new WithoutMetricsLibraries())
        {
            assertFalse(loader.holdsAMetricsLibrary(), "the isolated class path still holds a metrics library");
            assertEquals("returned null; opened 1, closed 1", probe(loader, false));
            // The probe did run the tracker and the switch in there.
            assertTrue(loader.asked().contains("dev.connstate.jetty.ConnStateTracker"));
            assertTrue(loader.asked().contains("dev.connstate.config.OtelSwitch"));
            assertEquals(List.of(), loader.asked().stream().filter(name -> METRICS.stream().anyMatch(name::startsWith)).sorted().toList());
        }
    }

    @Test
    public void theSwitchOnWithoutTheApiIsRefusedByName() throws Exception
    {
        try (WithoutMetricsLibraries loader = new WithoutMetricsLibraries())
        {
            assertEquals("refused: jetty.connstate.otel=true: " + expectedAbsentMessage() + "; opened 1, closed 1", probe(loader, true));
            // It looked for the API, and loaded nothing of ours that needs it.
            assertTrue(loader.asked().contains("io.opentelemetry.api.GlobalOpenTelemetry"));
            assertFalse(loader.asked().contains("dev.connstate.otel.ConnStateOtelMetrics"));
        }
    }

    /** The connstate-prometheus module's bean without Micrometer (its [files] not fetched): refused by name, not a stack of frames. */
    @Test
    public void thePrometheusModuleWithoutMicrometerIsRefusedByName() throws Exception
    {
        try (WithoutMetricsLibraries loader = new WithoutMetricsLibraries())
        {
            @SuppressWarnings("unchecked")
            Callable<String> probe = (Callable<String>)loader.loadClass(NoMicrometerPrometheusProbe.class.getName()).getConstructor().newInstance();
            assertEquals("refused: jetty.connstate.prometheus.path=/metrics: Micrometer's Prometheus registry is not on the server's class path " +
                "(java.lang.NoClassDefFoundError: io/micrometer/core/instrument/MeterRegistry): java -jar $JETTY_HOME/start.jar " +
                "--add-modules=connstate-prometheus fetches it into $JETTY_BASE/lib/connstate/prometheus/", probe.call());
        }
    }

    private static String expectedAbsentMessage()
    {
        return "the OpenTelemetry API is not on the server's class path: add the connstate-otel module " +
            "(java -jar $JETTY_HOME/start.jar --add-modules=connstate-otel fetches it into $JETTY_BASE/lib/connstate/otel/) and attach the " +
            "OpenTelemetry Java agent (java -javaagent:opentelemetry-javaagent.jar -jar $JETTY_HOME/start.jar), or turn jetty.connstate.otel off";
    }

    @SuppressWarnings("unchecked")
    private static String probe(ClassLoader loader, boolean on) throws Exception
    {
        Class<?> probe = loader.loadClass(NoMetricsProbe.class.getName());
        return ((Callable<String>)probe.getConstructor(boolean.class).newInstance(on)).call();
    }
}
