package dev.connstate.it;

import java.net.Socket;
import java.util.List;

import dev.connstate.Raw;
import dev.connstate.Wait;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.JsonLines.Event;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static dev.connstate.it.JsonLines.assertProtocol;
import static dev.connstate.it.JsonLines.assertSequence;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real distribution with {@code --add-modules=http,http2c,connstate} and the bundle
 * unpacked in a fresh base; HTTP/1.1 and h2c on one clear-text connector; every test checks
 * the exact sequence of the one connection it made, from the jsonl sink.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class ClearTextIT
{
    private Jetty jetty;
    private JsonLines jsonl;
    private String uri;

    @BeforeAll
    public void start() throws Exception
    {
        Base base = Distribution.newBase("cleartext").addModules("http,http2c,static-deploy,connstate");
        Bases.addRootPage(base);
        jetty = base.start("jetty.connstate.sinks=log,jsonl", "jetty.connstate.jsonl.file=logs/connstate.jsonl");
        jsonl = new JsonLines(base.file("logs/connstate.jsonl"));
        uri = "http://127.0.0.1:" + jetty.httpPort() + "/";
    }

    @AfterAll
    public void stop() throws Exception
    {
        if (jetty == null)
            return;
        try
        {
            jetty.stop();
            String output = jetty.output();
            assertFalse(output.contains(":WARN :dcj"), () -> "connstate warned:\n" + output);
            assertFalse(output.contains(":ERROR:dcj"), () -> "connstate failed:\n" + output);
        }
        finally
        {
            jetty.close();
        }
    }

    @Test
    public void jettyStartsWithoutWarnings()
    {
        // The start with the module on is as quiet as without it (Jetty warns, for instance,
        // about compliance listeners found as connector beans).
        String output = jetty.output();
        String start = output.substring(0, output.indexOf("Started oejs.Server"));
        assertFalse(start.contains(":WARN :"), () -> "warnings at start:\n" + start);
    }

    @Test
    public void oneGetLikeCurl() throws Exception
    {
        Clients.getThenStop(Clients.http1(false), uri, 1, false);
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.httpPort(), false, "new", "active", "idle", "closed");
        assertProtocol(conn, "http/1.1");
    }

    @Test
    public void threeGetsOnOneKeepAliveConnection() throws Exception
    {
        Clients.getThenStop(Clients.http1(false), uri, 3, false);
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.httpPort(), false, "new", "active", "idle", "active", "idle", "active", "idle", "closed");
        assertProtocol(conn, "http/1.1");
    }

    @Test
    public void connectionCloseHasNoIdle() throws Exception
    {
        HttpClient client = Clients.http1(false);
        try
        {
            Clients.get(client, uri, true);
            assertSequence(jsonl.nextOne(), jetty.httpPort(), false, "new", "active", "closed");
        }
        finally
        {
            client.stop();
        }
    }

    @Test
    public void h2cPriorKnowledge() throws Exception
    {
        Clients.getThenStop(Clients.http2(false), uri, 1, false);
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.httpPort(), false, "new", "active", "idle", "closed");
        assertProtocol(conn, "h2c");
    }

    @Test
    public void connectAndSendNothing() throws Exception
    {
        int clientPort;
        try (Socket socket = Raw.connect(jetty.httpPort()))
        {
            clientPort = socket.getLocalPort();
        }
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.httpPort(), false, "new", "closed");
        assertEquals(clientPort, conn.get(0).remotePort());
        // The log sink, on Jetty's console: Go's line, one per transition.
        long id = conn.get(0).id();
        for (String state : List.of("new", "closed"))
        {
            String line = "Client: 127.0.0.1:" + clientPort + " - new state: " + state + " (id " + id + ")";
            Wait.until("the log line '" + line + "'", Distribution.EVENT_TIMEOUT, () -> jetty.output().contains(line));
        }
    }

    @Test
    public void garbageIsABadRequest() throws Exception
    {
        try (Socket socket = Raw.connect(jetty.httpPort()))
        {
            Raw.write(socket, "GARBAGE\r\n\r\n");
            String answer = Raw.readToEnd(socket);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        }
        assertSequence(jsonl.nextOne(), jetty.httpPort(), false, "new", "active", "closed");
    }
}
