package dev.connstate.it;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import dev.connstate.Raw;
import dev.connstate.Wait;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.JsonLines.Event;
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
 * {@code --add-modules=http,http2c,ssl,https,http2,connstate} on the real distribution, with a
 * keystore made by keytool at test time: HTTP/1.1 over TLS, h2 with ALPN, bytes that are not
 * TLS, and the clear-text connector of the same server; the connection log beside the jsonl
 * sink, one record per connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class TlsIT
{
    private Jetty jetty;
    private JsonLines jsonl;
    private Path connlog;

    @BeforeAll
    public void start() throws Exception
    {
        Base base = Distribution.newBase("tls").addModules("http,http2c,ssl,https,http2,static-deploy,connstate");
        Bases.addRootPage(base);
        String[] keystore = Bases.addKeystore(base);
        String[] properties = new String[keystore.length + 2];
        System.arraycopy(keystore, 0, properties, 0, keystore.length);
        properties[keystore.length] = "jetty.connstate.sinks=jsonl,connlog";
        properties[keystore.length + 1] = "jetty.connstate.connlog.file=logs/connlog.jsonl";
        jetty = base.start(properties);
        jsonl = new JsonLines(base.file("logs/connstate.jsonl"));
        connlog = base.file("logs/connlog.jsonl");
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
            assertFalse(output.contains(":WARN :dcj") || output.contains(":ERROR:dcj"), () -> "connstate complained:\n" + output);
        }
        finally
        {
            jetty.close();
        }
    }

    /** The connection log's record of connection {@code id}, once written. */
    private String connlog(long id)
    {
        AtomicReference<String> found = new AtomicReference<>();
        Wait.until("the connection log's record of connection " + id, Distribution.EVENT_TIMEOUT, () ->
        {
            try
            {
                List<String> lines = Files.isRegularFile(connlog) ? Files.readAllLines(connlog, StandardCharsets.UTF_8) : List.of();
                lines.stream().filter(line -> line.startsWith("{\"id\":" + id + ",")).findFirst().ifPresent(found::set);
                return found.get() != null;
            }
            catch (IOException x)
            {
                return false;
            }
        });
        return found.get();
    }

    private String https()
    {
        return "https://127.0.0.1:" + jetty.sslPort() + "/";
    }

    @Test
    public void twoGetsOverTls() throws Exception
    {
        Clients.getThenStop(Clients.http1(true), https(), 2, false);
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.sslPort(), true, "new", "active", "idle", "active", "idle", "closed");
        assertProtocol(conn, "http/1.1");
        String record = connlog(conn.get(0).id());
        assertTrue(record.matches(".*,\"secure\":true,\"tls\":\\{\"protocol\":\"TLSv1\\.[23]\",\"cipher\":\"TLS_[A-Z0-9_]+\",\"sni\":null,\"handshakeMs\":[0-9]+\\.[0-9]{3}},.*"), record);
        assertTrue(record.matches(".*,\"requests\":2,\"activeMs\":[0-9.]+,\"idleMs\":[0-9.]+,\"maxIdleMs\":[0-9.]+,\"bytesIn\":[1-9][0-9]*,\"bytesOut\":[1-9][0-9]*,\"end\":\"closed\",\"reason\":\"remote_close\",\"race\":false}"), record);
    }

    @Test
    public void h2WithAlpn() throws Exception
    {
        Clients.getThenStop(Clients.http2(true), https(), 1, false);
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.sslPort(), true, "new", "active", "idle", "closed");
        assertProtocol(conn, "h2");
    }

    @Test
    public void plainTextToTheTlsPort() throws Exception
    {
        int clientPort;
        try (Socket socket = Raw.connect(jetty.sslPort()))
        {
            clientPort = socket.getLocalPort();
            Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Raw.readToEnd(socket);
        }
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.sslPort(), true, "new", "closed");
        assertEquals(clientPort, conn.get(0).remotePort());
        String record = connlog(conn.get(0).id());
        assertTrue(record.matches(".*,\"tls\":\\{\"protocol\":null,\"cipher\":null,\"sni\":null,\"handshakeMs\":[0-9.]+},.*,\"firstRequestMs\":null,\"requests\":0,.*" +
            ",\"bytesIn\":35,\"bytesOut\":[1-9][0-9]*,\"end\":\"closed\",\"reason\":\"tls_handshake_failed\",\"race\":false}"), record);
    }

    @Test
    public void theClearTextConnectorOfTheSameServer() throws Exception
    {
        Clients.getThenStop(Clients.http2(false), "http://127.0.0.1:" + jetty.httpPort() + "/", 1, false);
        List<Event> conn = jsonl.nextOne();
        assertSequence(conn, jetty.httpPort(), false, "new", "active", "idle", "closed");
        assertProtocol(conn, "h2c");
    }
}
