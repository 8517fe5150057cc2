package dev.connstate.bench.micro;

import java.util.concurrent.TimeUnit;

import dev.connstate.ConnState;
import dev.connstate.ConnStateMachine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under every tracked transition: one {@link ConnStateMachine#moveTo} (the rules and
 * the release stores), per transition, and the clock read the tracker adds to most of them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xms512m", "-Xmx512m", "-XX:+UseG1GC"})
public class MachineBench
{
    private ConnStateMachine machine;
    private long now;

    @Setup
    public void setUp()
    {
        machine = new ConnStateMachine(0);
        if (!machine.moveTo(ConnState.ACTIVE, 1) || !machine.moveTo(ConnState.IDLE, 2))
            throw new IllegalStateException("The machine refused new -> active -> idle: " + machine.state());
        now = 2;
    }

    /**
     * A keep-alive request's two transitions, {@code active} then {@code idle}; per transition.
     *
     * @return both results, so that neither is eliminated
     */
    @Benchmark
    @OperationsPerInvocation(2)
    public boolean keepAliveTransition()
    {
        // A clock that moves without a system call: the machine only subtracts it.
        now += 2;
        return machine.moveTo(ConnState.ACTIVE, now) & machine.moveTo(ConnState.IDLE, now + 1);
    }

    /**
     * @return the clock read the tracker makes for a transition that has no time from Jetty
     */
    @Benchmark
    public long clock()
    {
        return System.nanoTime();
    }
}
