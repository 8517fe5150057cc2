package dev.connstate.sink;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnTotals;
import dev.connstate.TlsInfo;
import dev.connstate.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every {@code jq} recipe of {@code docs/connlog.md} with the real {@code jq} on a day's
 * connection log written by {@link ConnLogSink}, and checks that it prints exactly the output
 * the page shows under it.
 *
 * <p>{@code .ci/run} installs {@code jq} when it is missing and sets
 * {@code -Dconnstate.tools.required=true}: there a missing {@code jq} fails the test. A plain
 * {@code mvn verify} on a machine without {@code jq} skips it, saying so.</p>
 */
public class ConnLogRecipesTest
{
    private static final Path PAGE = Path.of("docs/connlog.md");
    /** The day the page's recipes read. */
    private static final String FILE = "logs/connlog-2026_12_07.jsonl";
    /** A recipe: a {@code sh} block, then the {@code text} block of what it prints. */
    private static final Pattern RECIPE = Pattern.compile("```sh\n(.*?)\n```\n+```text\n(.*?)```", Pattern.DOTALL);

    @TempDir
    Path dir;

    @Test
    public void everyRecipeOfThePagePrintsWhatThePageShows() throws Exception
    {
        Tools.assumeInstalled("jq", "jq");
        writeTheDay(dir.resolve(FILE));
        Matcher m = RECIPE.matcher(Files.readString(PAGE));
        List<String> ran = new ArrayList<>();
        while (m.find())
        {
            String command = m.group(1);
            assertTrue(command.contains(FILE), () -> "a recipe that does not read " + FILE + ": " + command);
            assertEquals(m.group(2), run(command), command);
            ran.add(command);
        }
        assertEquals(5, ran.size(), () -> "recipes found in " + PAGE + ": " + ran);
    }

    private String run(String command) throws Exception
    {
        Process p = new ProcessBuilder("bash", "-c", "set -o pipefail\n" + command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), command);
        assertEquals(0, p.exitValue(), () -> command + "\n" + output);
        return output;
    }

    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.0.0.1", 443);
    private static final long MS = 1_000_000L;

    /** One connection's end, on 2026-12-07, with its request count, its life and how it ended. */
    private static ConnStateEvent end(long id, String remote, String protocol, TlsInfo tls, boolean secure, long requests, long ms, CloseReason reason)
    {
        String[] hostPort = remote.startsWith("[") ? remote.substring(1).split("]:") : remote.split(":");
        InetSocketAddress address = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
        long age = ms * MS;
        long first = requests == 0 ? -1 : Math.min(age, 2 * MS);
        long active = requests == 0 ? 0 : requests * MS;
        long idle = requests == 0 ? 0 : age - first - active;
        ConnState state = reason == null ? ConnState.HIJACKED : ConnState.CLOSED;
        ConnState previous = requests == 0 ? ConnState.NEW : reason == null ? ConnState.ACTIVE : ConnState.IDLE;
        return new ConnStateEvent(Instant.parse("2026-12-07T10:00:00Z").plusSeconds(id * 60), id, address, LOCAL, protocol, secure, state, previous,
            0, requests, 0, age, requests > 1 ? MS : -1, reason, false, tls, new ConnTotals(first, active, idle, 100 * requests, 1000 * requests));
    }

    private static TlsInfo tls(String sni, long handshakeMicros)
    {
        return new TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", sni, handshakeMicros * 1000);
    }

    /** The day of the page: silent clients, keep-alive ones, TLS ones, a failed handshake, a WebSocket. */
    private static void writeTheDay(Path file) throws IOException
    {
        Files.createDirectories(file.getParent());
        List<ConnStateEvent> day = List.of(
            end(1, "10.0.0.7:40001", "http/1.1", null, false, 3, 2500, CloseReason.REMOTE_CLOSE),
            end(2, "10.0.0.7:40002", "http/1.1", null, false, 1, 120, CloseReason.LOCAL_CLOSE),
            end(3, "10.0.0.5:40003", "unknown", null, false, 0, 30000, CloseReason.IDLE_TIMEOUT),
            end(4, "10.0.0.5:40004", "unknown", null, false, 0, 30000, CloseReason.IDLE_TIMEOUT),
            end(5, "10.0.0.5:40005", "unknown", null, false, 0, 30000, CloseReason.IDLE_TIMEOUT),
            end(6, "10.0.0.9:40006", "unknown", null, false, 0, 15, CloseReason.REMOTE_CLOSE),
            end(7, "10.0.0.8:40007", "h2", tls("api.example.com", 4321), true, 12, 60000, CloseReason.KEEP_ALIVE_TIMEOUT),
            end(8, "10.0.0.8:40008", "http/1.1", tls("www.example.com", 85000), true, 1, 300, CloseReason.REMOTE_CLOSE),
            end(9, "10.0.0.6:40009", "unknown", null, true, 0, 3, CloseReason.TLS_HANDSHAKE_FAILED),
            end(10, "[2001:db8::1]:40010", "http/1.1", null, false, 2, 5000, CloseReason.KEEP_ALIVE_TIMEOUT),
            end(11, "10.0.0.7:40011", "http/1.1", null, false, 1, 50, null),
            end(12, "10.0.0.7:40012", "http/1.1", null, false, 1, 800, CloseReason.REMOTE_CLOSE),
            end(13, "10.0.0.6:40013", "h2", tls(null, 12500), true, 3, 1000, CloseReason.DRAIN));
        try (ConnLogSink sink = ConnLogSink.builder(file).build())
        {
            for (ConnStateEvent e : day)
                sink.onStateChange(e, e.state());
        }
    }
}
