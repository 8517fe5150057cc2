package dev.connstate.it;

import java.net.Socket;

import dev.connstate.Raw;
import dev.connstate.Wait;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counting only: blank sinks with the jmx module and the connection table. The module starts
 * without a sink, says where the counts are, and counts: a keep-alive connection left open is
 * idle in the table while the connection that asks for the table is active. The same path serves
 * nginx's stub_status and the HTML page, and {@code jetty.connstate.status.maxRows} bounds them.
 */
public class CountingOnlyIT
{
    @Test
    public void blankSinksCountForJmxAndTheTable() throws Exception
    {
        Base base = Distribution.newBase("counting").addModules("http,jmx,connstate");
        try (Jetty jetty = base.start("jetty.connstate.sinks=", "jetty.connstate.status.path=/connstate", "jetty.connstate.status.maxRows=1"))
        {
            String output = jetty.output();
            assertTrue(output.contains("Counting connection states of every connector, no sink: read them through JMX and /connstate"), output);
            assertFalse(output.contains("WARN") || output.contains("ERROR"), output);
            try (Socket idle = Raw.connect(jetty.httpPort()); Socket asking = Raw.connect(jetty.httpPort()))
            {
                // One request on a connection left open: it is idle (whatever the answer, there is no web application).
                Raw.write(idle, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Raw.Response response = Raw.read(idle.getInputStream());
                assertTrue(response.head().startsWith("HTTP/1.1 "), response.head());
                // The client may read its response before the server has reported the request's end:
                // ask again (on the same keep-alive connection) until it has.
                String counts = "\"counts\":{\"new\":0,\"active\":1,\"idle\":1}";
                Raw.Response table = Wait.until("the table to show one idle connection", Distribution.EVENT_TIMEOUT, () -> get(asking, "/connstate"),
                    t -> t.status() != 200 || t.text().contains(counts));
                assertEquals(200, table.status(), table.head());
                assertTrue(table.text().contains(counts), table.text());
                assertTrue(table.text().contains(",\"shownPerState\":1,\"truncated\":false,"), table.text());

                // Two silent clients: two new, one shown; nginx's text counts them all.
                try (Socket silent1 = Raw.connect(jetty.httpPort()); Socket silent2 = Raw.connect(jetty.httpPort()))
                {
                    Raw.Response stub = Wait.until("stub_status to show the two silent clients", Distribution.EVENT_TIMEOUT,
                        () -> get(asking, "/connstate?format=stub_status"), t -> t.status() != 200 || t.text().startsWith("Active connections: 4 \n"));
                    assertEquals("text/plain", stub.header("Content-Type"));
                    // The accepts also count the connections the test harness made to see Jetty up.
                    assertTrue(stub.text().matches("Active connections: 4 \nserver accepts handled requests\n ([0-9]+) \\1 [0-9]+ \nReading: 2 Writing: 1 Waiting: 1 \n"),
                        stub.text());
                    Raw.Response json = get(asking, "/connstate?format=json");
                    assertTrue(json.text().contains("\"counts\":{\"new\":2,\"active\":1,\"idle\":1},\"shownPerState\":1,\"truncated\":true,"), json.text());
                    Raw.Response page = get(asking, "/connstate?format=html&refresh=5");
                    assertEquals("text/html;charset=utf-8", page.header("Content-Type"));
                    assertEquals("5", page.header("Refresh"));
                    assertTrue(page.header("Content-Security-Policy").startsWith("default-src 'none'; script-src 'sha256-"), page.head());
                    assertTrue(page.text().contains("each state shows its 1 longest in it (maxRows). new: 1 of 2, active: 1 of 1, idle: 1 of 1."), page.text());
                }
            }
        }
    }

    private static Raw.Response get(Socket socket, String target)
    {
        try
        {
            Raw.write(socket, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            return Raw.read(socket.getInputStream());
        }
        catch (java.io.IOException x)
        {
            throw new java.io.UncheckedIOException(x);
        }
    }
}
