package dev.connstate.it;

import java.net.Socket;

import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import org.junit.jupiter.api.Test;

import static dev.connstate.it.StopAndListenerIT.exchange;
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
            try (Socket idle = Clients.socket(jetty.httpPort()); Socket asking = Clients.socket(jetty.httpPort()))
            {
                String response = exchange(idle, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(response.startsWith("HTTP/1.1 "), response);
                String table = exchange(asking, "GET /connstate HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(table.startsWith("HTTP/1.1 200 "), table);
                assertTrue(table.contains("\"counts\":{\"new\":0,\"active\":1,\"idle\":1}"), table);
            }
        }
    }
}
