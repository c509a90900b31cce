package dev.grpckeepalive.shutdown;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * The server calls in flight on one connection, so that a stopping server can close them
 * (see {@link Shutdown#closeCalls}) and the connection's close can tell which calls it cut.
 * A list linked through the calls themselves, so that starting a call allocates no node;
 * the list's own monitor guards it, held only for a few pointer writes and contended only
 * by calls of this one connection.
 */
public final class ServerCalls {

	private @Nullable ClosableServerCall<?, ?> head;

	/**
	 * A server call started: it can be closed for shutdown from now on, and is closed at once
	 * if {@code shutdown} is already closing calls.
	 * @param call the call
	 * @param shutdown the shutdown of the server the call came to
	 */
	public void register(ClosableServerCall<?, ?> call, Shutdown shutdown) {
		synchronized (this) {
			call.next = this.head;
			if (this.head != null) {
				this.head.previous = call;
			}
			this.head = call;
		}
		// after the insert: Shutdown.closeCalls sets the status before it takes the list
		Status closing = shutdown.callsClosingStatus();
		if (closing != null) {
			call.closeForShutdown(closing);
		}
	}

	/** A server call ended. */
	public void unregister(ClosableServerCall<?, ?> call) {
		synchronized (this) {
			if (call.previous != null) {
				call.previous.next = call.next;
			}
			else if (this.head == call) {
				this.head = call.next;
			}
			if (call.next != null) {
				call.next.previous = call.previous;
			}
			call.previous = null;
			call.next = null;
		}
	}

	/** Closes every call in flight with {@code status}, see {@link ClosableServerCall}; returns how many. */
	int closeForShutdown(Status status) {
		List<ClosableServerCall<?, ?>> running = new ArrayList<>();
		synchronized (this) {
			for (ClosableServerCall<?, ?> call = this.head; call != null; call = call.next) {
				running.add(call);
			}
		}
		// outside the lock: a close may run grpc-java code
		running.forEach((call) -> call.closeForShutdown(status));
		return running.size();
	}

	/**
	 * The ages at {@code nowNanos} of the calls in flight that the application had not closed:
	 * at the close of the connection, the calls it cut.
	 * @param nowNanos the time, on the ticker the calls' start times come from
	 * @return the ages, empty when none
	 */
	public List<Duration> unfinishedAt(long nowNanos) {
		List<Duration> ages = null;
		synchronized (this) {
			for (ClosableServerCall<?, ?> call = this.head; call != null; call = call.next) {
				if (!call.isClosed()) {
					if (ages == null) {
						ages = new ArrayList<>();
					}
					ages.add(Duration.ofNanos(Math.max(0, nowNanos - call.startedNanos)));
				}
			}
		}
		return (ages != null) ? List.copyOf(ages) : List.of();
	}

}
