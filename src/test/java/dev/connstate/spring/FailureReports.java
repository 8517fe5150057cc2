package dev.connstate.spring;

import java.util.concurrent.atomic.AtomicReference;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalysisReporter;

/**
 * Keeps the last failure report of a Spring Boot application that failed to start in this JVM:
 * the analysis that Boot's own reporter prints as "APPLICATION FAILED TO START", its description
 * and action. Boot finds it in {@code META-INF/spring.factories} of the test class path.
 */
public class FailureReports implements FailureAnalysisReporter
{
    private static final AtomicReference<FailureAnalysis> LAST = new AtomicReference<>();

    @Override
    public void report(FailureAnalysis analysis)
    {
        LAST.set(analysis);
    }

    /**
     * @return the last report since the last call, or null
     */
    public static FailureAnalysis take()
    {
        return LAST.getAndSet(null);
    }
}
