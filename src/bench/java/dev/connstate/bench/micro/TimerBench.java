package dev.connstate.bench.micro;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.connstate.metrics.Instruments;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one record of a Micrometer timer costs on a Prometheus registry, with the seconds
 * boundaries of the connection instruments ({@link Instruments#SECONDS_BOUNDARIES}) as its
 * service-level objectives: the work that {@code metrics} does on every keep-alive request (the
 * idle time), apart from the listener that calls it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgs = {"-Xms512m", "-Xmx512m", "-XX:+UseG1GC"})
public class TimerBench
{
    private Timer timer;
    private long nanos;

    @Setup
    public void setUp()
    {
        Duration[] slos = Instruments.SECONDS_BOUNDARIES.stream().map(seconds -> Duration.ofNanos(Math.round(seconds * 1e9))).toArray(Duration[]::new);
        timer = Timer.builder("idle").serviceLevelObjectives(slos).register(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** One idle time, a few milliseconds, different each time. */
    @Benchmark
    public void record()
    {
        nanos = (nanos + 1_000_003) % 50_000_000;
        timer.record(nanos, TimeUnit.NANOSECONDS);
    }
}
