package dev.connstate.spring.app;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.Recorder;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The Spring Boot tests' application: Spring MVC on Boot's Jetty, the auto-configuration found
 * as a user's application finds it (on the class path), and a {@link Recorder} as the
 * application's own {@code ConnStateListener} bean.
 */
@SpringBootApplication
public class HelloApplication
{
    @Bean
    public Recorder recorder()
    {
        return new Recorder();
    }

    @Bean
    public Ends ends()
    {
        return new Ends();
    }

    @Bean
    public Gate gate()
    {
        return new Gate();
    }

    /** {@code /hello} answers at once; {@code /slow} once the test opens the gate. */
    @RestController
    public static class Hello
    {
        private final Gate gate;

        public Hello(Gate gate)
        {
            this.gate = gate;
        }

        @GetMapping("/hello")
        public String hello()
        {
            return "hello";
        }

        @GetMapping("/slow")
        public String slow() throws InterruptedException
        {
            gate.entered.countDown();
            if (!gate.open.await(30, TimeUnit.SECONDS))
                return "gate never opened";
            return "slow";
        }
    }

    /** A listener bean that wants the ends of connections only, as the connection log: the states it was given, by connection. */
    public static class Ends implements ConnStateListener
    {
        public final Map<Long, List<ConnState>> given = new ConcurrentHashMap<>();

        @Override
        public boolean wants(ConnState state)
        {
            return state.isTerminal();
        }

        @Override
        public void onStateChange(ConnInfo conn, ConnState state)
        {
            given.computeIfAbsent(conn.id(), id -> new CopyOnWriteArrayList<>()).add(state);
        }
    }

    /** Holds {@code /slow} until the test opens it. */
    public static class Gate
    {
        private final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch open = new CountDownLatch(1);

        /** @return whether a request entered {@code /slow} */
        public boolean entered()
        {
            return entered.getCount() == 0;
        }

        public void open()
        {
            open.countDown();
        }
    }
}
