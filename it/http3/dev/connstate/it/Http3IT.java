package dev.connstate.it;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.JsonLines.Event;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import static dev.connstate.it.JsonLines.assertSequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/3 on the real distribution ({@code --add-modules=http,ssl,http3,connstate}, Quiche
 * through JNA), with Jetty's own HTTP/3 clients: the QUIC connections are served, and none of
 * them, nor the connector's UDP socket, nor a request stream, is reported as a connection (HTTP/3
 * is not tracked); the TCP connector beside it is.
 *
 * <p>Only on Jetty 12.1.5 (the profile {@code http3-it} adds this directory), the one 12.1.x whose
 * HTTP/3 client and Quiche native Maven Central serves here.</p>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class Http3IT
{
    private static final Pattern QUIC_CONNECTOR = Pattern.compile("Started oejqqs\\.QuicheServerConnector@\\w+\\{[^}]*\\}\\{[^}]*:(\\d+)\\}");
    /** The QUIC idle timeout the server runs with: short, so that a test can wait for it. */
    private static final long QUIC_IDLE_TIMEOUT_MS = 2000;
    /** How the JVM exits after SIGTERM, once its shutdown hooks (Jetty's stop) ran. */
    private static final int SIGTERM_EXIT = 143;
    private static final byte[] LARGE = new byte[1024 * 1024];

    private Jetty jetty;
    private JsonLines jsonl;
    private int quicPort;
    private final List<H3Client> clients = new ArrayList<>();

    @BeforeAll
    public void start() throws Exception
    {
        Base base = Distribution.newBase("http3");
        // Quiche's license must be approved, as an operator does once.
        Distribution.Result added = base.run("--add-modules=http,ssl,http3,graceful,static-deploy,connstate", "--approve-all-licenses");
        assertEquals(0, added.exit(), added.output());
        Bases.addRootPage(base);
        for (int i = 0; i < LARGE.length; i++)
            LARGE[i] = (byte)('a' + i % 26);
        Files.write(base.resolve("webapps/root/large.txt"), LARGE);
        List<String> properties = new ArrayList<>(List.of(Bases.addKeystore(base)));
        properties.addAll(List.of("jetty.quic.host=127.0.0.1", "jetty.quic.port=0", "jetty.quic.idleTimeout=" + QUIC_IDLE_TIMEOUT_MS,
            "jetty.server.stopTimeout=10000", "jetty.connstate.sinks=jsonl"));
        jetty = base.start(properties.toArray(String[]::new));
        jsonl = new JsonLines(base.file("logs/connstate.jsonl"));
        String output = jetty.output();
        Matcher quic = QUIC_CONNECTOR.matcher(output);
        assertTrue(quic.find(), output);
        quicPort = Integer.parseInt(quic.group(1));
        assertTrue(output.contains("Not tracking oejqqs.QuicheServerConnector@"), output);
        // The sink works: a TCP connection to the same server is reported, whole.
        Clients.getThenStop(Clients.http1(false), "http://127.0.0.1:" + jetty.httpPort() + "/", 1, false);
        assertSequence(jsonl.nextOne(), jetty.httpPort(), false, "new", "active", "idle", "closed");
    }

    @AfterEach
    public void nothingReported() throws Exception
    {
        for (H3Client client : clients)
            client.close();
        clients.clear();
        assertEquals(List.of(), jsonl.since(), "HTTP/3 was reported");
    }

    @AfterAll
    public void stop() throws Exception
    {
        if (jetty == null)
            return;
        try
        {
            if (jetty.isAlive())
                assertEquals(SIGTERM_EXIT, jetty.stop(), jetty.output());
            // Before HTTP/3 was left out, the server's stop closed a row for the UDP socket and each stream.
            assertEquals(List.of(), jsonl.since(), "HTTP/3 was reported at the server's stop");
            String output = jetty.output();
            assertFalse(output.contains(":WARN :dc") || output.contains(":ERROR:dc"), () -> "connstate complained:\n" + output);
        }
        finally
        {
            jetty.close();
        }
    }

    private H3Client client(int streamWindow) throws Exception
    {
        H3Client client = new H3Client(streamWindow);
        clients.add(client);
        return client;
    }

    private H3Client client() throws Exception
    {
        return client(8 * 1024 * 1024);
    }

    @Test
    public void twoClientsWithSequentialAndOverlappingRequests() throws Exception
    {
        H3Client.Conn a = client().connect(quicPort);
        H3Client.Conn b = client().connect(quicPort);
        for (int i = 0; i < 3; i++)
        {
            H3Client.Response response = a.get("/");
            assertEquals(200, response.status());
            assertEquals(Bases.PAGE, response.text());
        }
        // Two streams open at once on A, and B's request beside them.
        H3Client.Response first = a.get("/large.txt");
        H3Client.Response second = a.get("/");
        H3Client.Response other = b.get("/");
        assertEquals(Bases.PAGE, second.text());
        assertEquals(Bases.PAGE, other.text());
        assertArrayEquals(LARGE, first.body());
        a.close();
        b.close();
    }

    @Test
    public void aQuicConnectionWithoutRequest() throws Exception
    {
        client().connect(quicPort).close();
    }

    @Test
    public void aClientThatGoesAway() throws Exception
    {
        H3Client client = client();
        H3Client.Conn conn = client.connect(quicPort);
        assertEquals(200, conn.get("/").status());
        // The client stops without closing its QUIC connection first.
        clients.remove(client);
        client.close();
    }

    @Test
    public void theIdleTimeout() throws Exception
    {
        H3Client.Conn conn = client().connect(quicPort);
        assertEquals(Bases.PAGE, conn.get("/").text());
        conn.awaitDisconnect();
        assertEquals("256 idle_timeout", conn.disconnect());
    }

    /** Last: the server stops, and the stream in flight finishes after its GOAWAY. */
    @Test
    @Order(Integer.MAX_VALUE)
    public void theDrainWithAStreamInFlight() throws Exception
    {
        // A window far smaller than the response: the server's stream stays open until the client reads.
        H3Client.Conn conn = client(16 * 1024).connect(quicPort);
        H3Client.Response inFlight = conn.get("/large.txt", false);
        assertEquals(200, inFlight.status());
        CompletableFuture<Integer> stopped = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return jetty.stop();
            }
            catch (InterruptedException x)
            {
                throw new IllegalStateException(x);
            }
        });
        conn.awaitGoAway();
        assertArrayEquals(LARGE, inFlight.body());
        assertEquals(SIGTERM_EXIT, stopped.get(Distribution.STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS), jetty.output());
        String output = jetty.output();
        assertTrue(output.contains("Drained in ") && output.contains("0 connections closed idle, 0 finished their request, 0 closed new, 0 forced at the deadline"), output);
    }
}
