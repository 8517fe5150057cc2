package dev.connstate;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state machine against the whole table of transitions: every pair (from, to) is either
 * legal (and happens) or illegal (and changes nothing).
 */
public class ConnStateMachineTest
{
    /** The contract's table: from -> the states that may follow. */
    private static final Map<ConnState, List<ConnState>> LEGAL = Map.of(
        ConnState.NEW, List.of(ConnState.ACTIVE, ConnState.CLOSED),
        ConnState.ACTIVE, List.of(ConnState.IDLE, ConnState.CLOSED, ConnState.HIJACKED),
        ConnState.IDLE, List.of(ConnState.ACTIVE, ConnState.CLOSED),
        ConnState.HIJACKED, List.of(),
        ConnState.CLOSED, List.of());

    /** A legal path from NEW to each state. */
    private static final Map<ConnState, List<ConnState>> PATH = Map.of(
        ConnState.NEW, List.of(),
        ConnState.ACTIVE, List.of(ConnState.ACTIVE),
        ConnState.IDLE, List.of(ConnState.ACTIVE, ConnState.IDLE),
        ConnState.HIJACKED, List.of(ConnState.ACTIVE, ConnState.HIJACKED),
        ConnState.CLOSED, List.of(ConnState.CLOSED));

    private static ConnStateMachine machineIn(ConnState state)
    {
        ConnStateMachine machine = new ConnStateMachine(0);
        long now = 0;
        for (ConnState step : PATH.get(state))
            assertTrue(machine.moveTo(step, ++now), "path to " + state);
        assertEquals(state, machine.state());
        return machine;
    }

    @ParameterizedTest
    @EnumSource(ConnState.class)
    public void everyTransitionFrom(ConnState from)
    {
        for (ConnState to : ConnState.values())
        {
            ConnStateMachine machine = machineIn(from);
            ConnState previousBefore = machine.previous();
            long sinceBefore = machine.sinceNanos();
            boolean legal = LEGAL.get(from).contains(to);
            assertEquals(legal, from.canTransitionTo(to), from + " -> " + to);
            assertEquals(legal, machine.moveTo(to, 1000), from + " -> " + to);
            if (legal)
            {
                assertEquals(to, machine.state());
                assertEquals(from, machine.previous());
                assertEquals(1000 - sinceBefore, machine.previousNanos());
                assertEquals(1000, machine.sinceNanos());
            }
            else
            {
                assertEquals(from, machine.state(), "an illegal transition changes nothing");
                assertEquals(previousBefore, machine.previous());
                assertEquals(sinceBefore, machine.sinceNanos());
            }
        }
    }

    @Test
    public void noStateFollowsItself()
    {
        for (ConnState s : ConnState.values())
            assertFalse(s.canTransitionTo(s), s.toString());
    }

    /** Only waits in idle that a request ended count; the one a close ends does not. */
    @Test
    public void keepsTheLongestIdleWaitBeforeARequest()
    {
        ConnStateMachine machine = new ConnStateMachine(0);
        machine.moveTo(ConnState.ACTIVE, 500);
        machine.moveTo(ConnState.IDLE, 600);
        assertEquals(-1, machine.longestIdleNanos(), "no request came after an idle wait yet");
        machine.moveTo(ConnState.ACTIVE, 900);
        machine.moveTo(ConnState.IDLE, 1000);
        machine.moveTo(ConnState.ACTIVE, 1100);
        assertEquals(300, machine.longestIdleNanos());
        machine.moveTo(ConnState.IDLE, 1200);
        machine.moveTo(ConnState.ACTIVE, 1600);
        machine.moveTo(ConnState.IDLE, 1700);
        machine.moveTo(ConnState.CLOSED, 9000);
        assertEquals(400, machine.longestIdleNanos());
    }

    @Test
    public void startsNewWithoutPrevious()
    {
        ConnStateMachine machine = new ConnStateMachine(42);
        assertEquals(ConnState.NEW, machine.state());
        assertNull(machine.previous());
        assertEquals(42, machine.sinceNanos());
        assertEquals(-1, machine.longestIdleNanos());
    }

    @Test
    public void goNames()
    {
        assertEquals(List.of("new", "active", "idle", "hijacked", "closed"),
            List.of(ConnState.values()).stream().map(ConnState::toString).toList());
        assertEquals(ConnState.HIJACKED, ConnState.of("Hijacked"));
        assertThrows(IllegalArgumentException.class, () -> ConnState.of("open"));
        assertTrue(ConnState.CLOSED.isTerminal());
        assertTrue(ConnState.HIJACKED.isTerminal());
        assertFalse(ConnState.IDLE.isTerminal());
    }
}
