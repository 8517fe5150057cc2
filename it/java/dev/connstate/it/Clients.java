package dev.connstate.it;

import java.util.concurrent.TimeUnit;

import dev.connstate.Tls;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpClientTransport;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** jetty-client over HTTP/1.1, h2c and h2 (raw sockets: {@link dev.connstate.Raw}); every call bounded. */
public final class Clients
{
    private static final long TIMEOUT_SECONDS = 15;

    private Clients()
    {
    }

    /**
     * GETs {@code path} over a raw connection of its own, {@code proxyHeader} first (may be empty),
     * and closes it once the response is read: the client closes ({@code remote_close}).
     */
    public static dev.connstate.Raw.Response rawGet(int port, String proxyHeader, String path)
    {
        try (java.net.Socket socket = dev.connstate.Raw.connect(port))
        {
            dev.connstate.Raw.write(socket, proxyHeader + "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            return dev.connstate.Raw.read(socket.getInputStream());
        }
        catch (java.io.IOException x)
        {
            throw new java.io.UncheckedIOException(x);
        }
    }

    /** An HTTP/1.1 client (over TLS if {@code tls}, trusting the test certificate); stop it to close its connections. */
    public static HttpClient http1(boolean tls) throws Exception
    {
        return start(new HttpClientTransportOverHTTP(connector(tls)));
    }

    /** An HTTP/2 client: h2c with prior knowledge on http://, h2 with ALPN on https:// (if {@code tls}). */
    public static HttpClient http2(boolean tls) throws Exception
    {
        return start(new HttpClientTransportOverHTTP2(new HTTP2Client(connector(tls))));
    }

    private static ClientConnector connector(boolean tls)
    {
        ClientConnector connector = new ClientConnector();
        if (tls)
            connector.setSslContextFactory(Tls.client());
        connector.setSelectors(1);
        return connector;
    }

    private static HttpClient start(HttpClientTransport transport) throws Exception
    {
        HttpClient client = new HttpClient(transport);
        client.setIdleTimeout(30_000);
        client.start();
        return client;
    }

    /** GETs {@code uri} and checks the 200 and the static page of the test base. */
    public static ContentResponse get(HttpClient client, String uri, boolean close) throws Exception
    {
        ContentResponse response = client.newRequest(uri)
            .headers(h ->
            {
                if (close)
                    h.put(HttpHeader.CONNECTION, "close");
            })
            .timeout(TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .send();
        assertEquals(200, response.getStatus(), () -> uri + " answered " + response.getStatus() + ": " + response.getContentAsString());
        assertEquals(Bases.PAGE, response.getContentAsString());
        return response;
    }

    /**
     * GETs {@code uri} {@code times} times on {@code client}, one connection, then stops the
     * client, which closes it.
     */
    public static void getThenStop(HttpClient client, String uri, int times, boolean close) throws Exception
    {
        try
        {
            for (int i = 0; i < times; i++)
                get(client, uri, close);
        }
        finally
        {
            client.stop();
        }
    }
}
