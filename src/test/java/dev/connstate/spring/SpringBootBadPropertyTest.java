package dev.connstate.spring;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.connstate.spring.app.HelloApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.diagnostics.FailureAnalysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A {@code connstate.*} value that cannot work stops the application's start, and Boot's failure
 * report names the property and the value: the module's checks, under Boot's names.
 */
public class SpringBootBadPropertyTest
{
    private static FailureAnalysis failedStart(String... arguments)
    {
        FailureReports.take();
        SpringApplicationBuilder application = new SpringApplicationBuilder(HelloApplication.class)
            .properties("server.port=0", "server.address=127.0.0.1");
        assertThrows(RuntimeException.class, () -> application.run(arguments).close());
        FailureAnalysis analysis = FailureReports.take();
        assertNotNull(analysis, "Boot's failure report");
        return analysis;
    }

    private static String invalid(String property, String value, String reason)
    {
        return "Invalid value '" + value + "' for configuration property '" + property + "' (originating from '\"" + property + "\" from property source \"commandLineArgs\"'). " +
            "Validation failed for the following reason:\n\n" + reason;
    }

    /** (The test class path has a fourth sink, memory, from a jar of the tests.) */
    @Test
    public void anUnknownSink()
    {
        FailureAnalysis analysis = failedStart("--connstate.sinks=log,foo");
        assertEquals(invalid("connstate.sinks", "log,foo", "unknown sink 'foo' (known: log, jsonl, connlog, memory)"), analysis.getDescription());
        assertEquals("Review the value of the property with the provided reason.", analysis.getAction());
    }

    @Test
    public void aQueueCapacityOutOfRange()
    {
        assertEquals(invalid("connstate.queue.capacity", "0", "must be between 1 and 1073741824"),
            failedStart("--connstate.queue.capacity=0").getDescription());
    }

    @Test
    public void aStatusMaxRowsOutOfRange()
    {
        assertEquals(invalid("connstate.status.max-rows", "1000001", "must be between 1 and 1000000"),
            failedStart("--connstate.status.max-rows=1000001").getDescription());
    }

    /** A duration the module refuses: named by its Boot name, with the module's milliseconds. */
    @Test
    public void aKeepAliveTimeoutOfZero()
    {
        assertEquals(invalid("connstate.keep-alive-timeout", "0", "must be more than 0 (leave it blank for the connector's idle timeout)"),
            failedStart("--connstate.keep-alive-timeout=0").getDescription());
    }

    /** The request header timeout may be 0 (off), not negative: the module's milliseconds. */
    @Test
    public void aNegativeRequestHeaderTimeout()
    {
        assertEquals(invalid("connstate.request-header-timeout", "-1", "must not be negative"),
            failedStart("--connstate.request-header-timeout=-1").getDescription());
    }

    @Test
    public void aNegativeCapPerClient()
    {
        assertEquals(invalid("connstate.client.max-connections", "-1", "must be between 0 (no cap) and 2147483647"),
            failedStart("--connstate.client.max-connections=-1").getDescription());
        assertEquals(invalid("connstate.client.max-new", "-5", "must be between 0 (no cap) and 2147483647"),
            failedStart("--connstate.client.max-new=-5").getDescription());
    }

    /** A list in Boot, the module's comma-separated text in the report. */
    @Test
    public void aHostNameAmongTheExemptClients()
    {
        assertEquals(invalid("connstate.client.exempt", "10.0.0.0/8,lb.example.com", "Not an IP address, CIDR range or address range: 'lb.example.com'" +
                " (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9)"),
            failedStart("--connstate.client.exempt=10.0.0.0/8,lb.example.com").getDescription());
    }

    /** A property whose Boot name is not the module's name with another prefix, checked when its sink is made. */
    @ParameterizedTest
    @ValueSource(strings = {"jsonl", "connlog"})
    public void aNegativeRetention(String sink) throws Exception
    {
        Path file = Files.createTempDirectory("connstate").resolve(sink + "-yyyy_mm_dd.jsonl");
        FailureAnalysis analysis = failedStart("--connstate.sinks=" + sink, "--connstate." + sink + ".file=" + file, "--connstate." + sink + ".retain-days=-1");
        assertEquals(invalid("connstate." + sink + ".retain-days", "-1", "must be 0 (keep every file) or more days"), analysis.getDescription());
    }

    @Test
    public void aLineFormatWithAnUnknownPlaceholderCreatesNoFile() throws Exception
    {
        Path file = Files.createTempDirectory("connstate").resolve("never.jsonl");
        FailureAnalysis analysis = failedStart("--connstate.sinks=log,jsonl", "--connstate.jsonl.file=" + file, "--connstate.log.format=Client {nope}");
        assertEquals(invalid("connstate.log.format", "Client {nope}", "Unknown placeholder {nope} in line format 'Client {nope}' (known: [id, remote, local, state, prev, protocol, secure, requests, prevMs, ageMs, reason, race, tls, cipher, sni])"),
            analysis.getDescription());
        assertFalse(Files.exists(file), "the jsonl file of a start that failed");
    }

    /** A value of the wrong type is refused by Boot's binding itself, with its own report. */
    @Test
    public void aValueOfTheWrongType()
    {
        String description = failedStart("--connstate.drain.new-grace=soon").getDescription();
        assertEquals("Failed to bind properties under 'connstate.drain.new-grace' to java.time.Duration:\n\n" +
            "    Property: connstate.drain.new-grace\n" +
            "    Value: \"soon\"\n" +
            "    Origin: \"connstate.drain.new-grace\" from property source \"commandLineArgs\"\n" +
            "    Reason: failed to convert java.lang.String to @org.springframework.boot.convert.DurationUnit java.time.Duration (caused by java.lang.IllegalArgumentException: 'soon' is not a valid duration)", description);
    }
}
