package dev.connstate.jetty;

import java.io.OutputStream;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import org.eclipse.jetty.jmx.MBeanContainer;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static dev.connstate.TrackedServer.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class JmxTest
{
    @Test
    public void attributesAndOperationsThroughARealMBeanServer() throws Exception
    {
        // A real MBeanServer of its own: the platform one outlives the tests that register in it.
        MBeanServer mbeans = MBeanServerFactory.newMBeanServer();
        try (TrackedServer s = new TrackedServer())
        {
            ObjectName tracker = startWithMBeans(s, mbeans);

            // No connection in state new: exactly 0.
            assertEquals(0L, mbeans.getAttribute(tracker, "oldestNewMillis"));
            long beforeFresh = System.nanoTime();
            try (Socket idle = Raw.connect(s.port()); Socket fresh = Raw.connect(s.port()))
            {
                Raw.write(idle, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Raw.read(idle.getInputStream());
                s.recorder.idOfClientPort(fresh.getLocalPort());
                // The recorder has seen the new: the tracker had it in state new at that instant or before.
                long freshSeen = System.nanoTime();
                Wait.until("one idle, one new", () -> s.tracker.getIdleConnections() == 1 && s.tracker.getNewConnections() == 1);

                assertEquals(1L, mbeans.getAttribute(tracker, "idleConnections"));
                assertEquals(1L, mbeans.getAttribute(tracker, "newConnections"));
                assertEquals(0L, mbeans.getAttribute(tracker, "activeConnections"));
                assertEquals(2L, mbeans.getAttribute(tracker, "openedTotal"));
                assertEquals(1L, mbeans.getAttribute(tracker, "requestsTotal"));
                assertEquals(2, mbeans.getAttribute(tracker, "trackedConnections"));
                // The fresh connection waits in state new: its age there, between what this thread can bound it by.
                Wait.until("the fresh connection to wait 50 ms", () -> s.tracker.getOldestNewMillis() >= 50);
                long atLeast = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - freshSeen);
                long oldestNew = (Long)mbeans.getAttribute(tracker, "oldestNewMillis");
                long atMost = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - beforeFresh);
                assertTrue(oldestNew >= 50 && oldestNew >= atLeast && oldestNew <= atMost, atLeast + " <= oldestNewMillis " + oldestNew + " <= " + atMost);
                // It grows while the connection stays new.
                Wait.until("the tracker's oldestNewMillis to pass " + oldestNew, () -> s.tracker.getOldestNewMillis() > oldestNew);
                assertTrue((Long)mbeans.getAttribute(tracker, "oldestNewMillis") > oldestNew);
                String dump = (String)mbeans.invoke(tracker, "dumpConnections", null, null);
                assertEquals(2, dump.lines().count(), dump);
                // Jetty's server dump shows the table under the tracker.
                String serverDump = s.server.dump();
                assertTrue(serverDump.contains("connections size=2"), serverDump);
                assertTrue(serverDump.contains("127.0.0.1:" + idle.getLocalPort() + "->"), serverDump);

                // Go's Shutdown closes idle connections first: only the idle one goes.
                assertEquals(1, mbeans.invoke(tracker, "closeIdleConnections", null, null));
                assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(idle.getLocalPort()));
                assertEquals(1L, mbeans.getAttribute(tracker, "closedTotal"));
                assertEquals(1L, mbeans.getAttribute(tracker, "newConnections"));
                // The closed connection's request still counts, and the open one's add up.
                assertEquals(1L, mbeans.getAttribute(tracker, "requestsTotal"));
                OutputStream out = fresh.getOutputStream();
                out.write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
                out.flush();
                long freshId = s.recorder.idOfClientPort(fresh.getLocalPort());
                Wait.until("two more requests", () -> s.recorder.events(freshId).size() == 5);
                assertEquals(3L, mbeans.getAttribute(tracker, "requestsTotal"));
                // The fresh connection is idle now: no connection is new any more.
                assertEquals(seq("new", "active", "idle", "active", "idle"), s.recorder.sequence(freshId));
                assertEquals(0L, mbeans.getAttribute(tracker, "newConnections"));
                assertEquals(0L, mbeans.getAttribute(tracker, "oldestNewMillis"));
            }
        }
    }

    /** A handshake held open is in progress; plain text to the TLS port makes it a failure; one that completes is neither. */
    @Test
    public void tlsHandshakesThroughARealMBeanServer() throws Exception
    {
        MBeanServer mbeans = MBeanServerFactory.newMBeanServer();
        try (TrackedServer s = new TrackedServer())
        {
            s.addTlsConnector();
            ObjectName tracker = startWithMBeans(s, mbeans);
            assertEquals(0L, mbeans.getAttribute(tracker, "tlsHandshakesInProgress"));
            try (RawClient held = s.connect())
            {
                held.id();
                assertEquals(1L, mbeans.getAttribute(tracker, "tlsHandshakesInProgress"));
                assertEquals(0L, mbeans.getAttribute(tracker, "tlsHandshakeFailures"));
                // Jetty fails the handshake on the first bytes that are not TLS, and closes.
                held.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                held.readToEnd();
                held.assertSequence("new", "closed");
            }
            assertEquals(0L, mbeans.getAttribute(tracker, "tlsHandshakesInProgress"));
            assertEquals(1L, mbeans.getAttribute(tracker, "tlsHandshakeFailures"));
            try (RawClient done = s.connectTls())
            {
                done.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("hello", done.read().text());
                assertEquals(0L, mbeans.getAttribute(tracker, "tlsHandshakesInProgress"));
            }
            assertEquals(1L, mbeans.getAttribute(tracker, "tlsHandshakeFailures"));
        }
    }

    /** Starts {@code s} with its beans in {@code mbeans}; returns the tracker's name there. */
    private static ObjectName startWithMBeans(TrackedServer s, MBeanServer mbeans) throws Exception
    {
        s.server.addBean(new MBeanContainer(mbeans));
        s.start();
        Set<ObjectName> names = mbeans.queryNames(new ObjectName("dev.connstate.jetty:type=connstatetracker,*"), null);
        assertEquals(1, names.size(), names.toString());
        return names.iterator().next();
    }
}
