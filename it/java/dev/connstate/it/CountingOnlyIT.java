package dev.connstate.it;

import java.net.Socket;

import dev.connstate.Raw;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counting only: blank sinks with the jmx module and the connection table. The module starts
 * without a sink, says where the counts are, and counts: a keep-alive connection left open is
 * idle in the table while the connection that asks for the table is active.
 */
public class CountingOnlyIT
{
    @Test
    public void blankSinksCountForJmxAndTheTable() throws Exception
    {
        Base base = Distribution.newBase("counting").addModules("http,jmx,connstate");
        try (Jetty jetty = base.start("jetty.connstate.sinks=", "jetty.connstate.status.path=/connstate"))
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
                Raw.write(asking, "GET /connstate HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Raw.Response table = Raw.read(asking.getInputStream());
                assertEquals(200, table.status(), table.head());
                assertTrue(table.text().contains("\"counts\":{\"new\":0,\"active\":1,\"idle\":1}"), table.text());
            }
        }
    }
}
