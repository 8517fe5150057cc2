package dev.connstate.it;

import java.nio.file.Files;
import java.util.stream.Stream;

import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Result;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A setting that cannot work stops Jetty's start: start.jar exits with an error, and the output
 * has one line naming the property and the value (logged at ERROR, and as the cause Jetty
 * prints, without frames of ours). Nothing is half-started: no jsonl file is left behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class FailureIT
{
    private Base base;

    @BeforeAll
    public void makeBase() throws Exception
    {
        base = Distribution.newBase("failure").addModules("http,connstate");
    }

    static Stream<Arguments> badSettings()
    {
        return Stream.of(
            Arguments.of(new String[]{"jetty.connstate.sinks=jsonl,foo"},
                "jetty.connstate.sinks=jsonl,foo: unknown sink 'foo' (known: log, jsonl, connlog)"),
            Arguments.of(new String[]{"jetty.connstate.listeners=com.example.Missing"},
                "jetty.connstate.listeners=com.example.Missing: class 'com.example.Missing' not found on the server class path (put its jar in $JETTY_BASE/lib/connstate/)"),
            Arguments.of(new String[]{"jetty.connstate.listeners=java.lang.String"},
                "jetty.connstate.listeners=java.lang.String: class 'java.lang.String' does not implement dev.connstate.ConnStateListener"),
            Arguments.of(new String[]{"jetty.connstate.sinks=log,jsonl", "jetty.connstate.jsonl.file=start.d/http.ini/connstate.jsonl"},
                "jetty.connstate.jsonl.file=start.d/http.ini/connstate.jsonl: cannot append to "),
            Arguments.of(new String[]{"jetty.connstate.sinks=jsonl", "jetty.connstate.jsonl.rollover.timezone=Mars/Olympus"},
                "jetty.connstate.jsonl.rollover.timezone=Mars/Olympus: unknown time zone (e.g. GMT, UTC, Europe/Paris, +01:00)"),
            Arguments.of(new String[]{"jetty.connstate.log.format=Client {remote} {nope}"},
                "jetty.connstate.log.format=Client {remote} {nope}: Unknown placeholder {nope} in line format 'Client {remote} {nope}'"),
            Arguments.of(new String[]{"jetty.connstate.sinks="},
                "jetty.connstate.sinks=: no sink and no listener (jetty.connstate.listeners), nothing would be reported")
        );
    }

    @ParameterizedTest
    @MethodSource("badSettings")
    public void startFailsWithOneClearLine(String[] properties, String line) throws Exception
    {
        String[] args = new String[properties.length + 1];
        args[0] = "jetty.http.port=0";
        System.arraycopy(properties, 0, args, 1, properties.length);
        Result result = base.run(args);
        String output = result.output();
        assertNotEquals(0, result.exit(), () -> "start.jar exit code, output:\n" + output);
        assertFalse(output.contains("Started oejs.Server@"), () -> "Jetty started:\n" + output);
        assertTrue(output.contains(":ERROR:dcc.ConnStateModule:main: Not starting: " + line), () -> "no ERROR line '" + line + "' in:\n" + output);
        assertTrue(output.contains("Caused by: ConnStateConfigurationException: " + line), () -> "no cause line '" + line + "' in:\n" + output);
        assertFalse(output.contains("at dev.connstate."), () -> "stack frames of ours in:\n" + output);
        assertFalse(Files.exists(base.resolve("logs/connstate.jsonl")), "a jsonl file was left behind");
    }
}
