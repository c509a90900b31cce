package dev.grpckeepalive.shutdown;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The close for shutdown never overlaps the application's use of a call, and never waits for it. */
public class ClosableServerCallTests {

	private static final Status SHUTDOWN = Status.UNAVAILABLE.withDescription("shutting down");

	private final ServerCalls calls = new ServerCalls();

	private final Shutdown shutdown = new Shutdown(() -> List.of(this.calls));

	@Test
	void idleCallIsClosedAtOnceAndLaterSendsAreDropped() {
		FakeCall delegate = new FakeCall();
		ClosableServerCall<String, String> call = new ClosableServerCall<>(delegate, 0L);
		call.sendHeaders(new Metadata());

		call.closeForShutdown(SHUTDOWN);

		assertThat(delegate.events).containsExactly("headers", "close UNAVAILABLE");
		assertThat(call.isCancelled()).isTrue();
		assertThat(call.isClosedForShutdown()).isTrue();
		call.sendMessage("late");
		call.close(Status.OK, new Metadata());
		assertThat(delegate.events).containsExactly("headers", "close UNAVAILABLE");
	}

	@Test
	void callInTheMiddleOfASendIsClosedByTheSendingThreadOnItsWayOut() throws Exception {
		FakeCall delegate = new FakeCall();
		ClosableServerCall<String, String> call = new ClosableServerCall<>(delegate, 0L);
		CompletableFuture<Void> send = CompletableFuture.runAsync(() -> call.sendMessage("slow"));
		assertThat(delegate.sendEntered.await(5, TimeUnit.SECONDS)).isTrue();

		long start = System.nanoTime();
		call.closeForShutdown(SHUTDOWN);
		assertThat(Duration.ofNanos(System.nanoTime() - start)).as("did not wait for the send").isLessThan(Duration.ofSeconds(1));
		assertThat(delegate.events).containsExactly("message slow");

		delegate.releaseSend.countDown();
		send.get(5, TimeUnit.SECONDS);
		assertThat(delegate.events).containsExactly("message slow", "close UNAVAILABLE");
		assertThat(delegate.overlapped.get()).isFalse();
	}

	@Test
	void callTheApplicationClosedStaysAsItIs() {
		FakeCall delegate = new FakeCall();
		ClosableServerCall<String, String> call = new ClosableServerCall<>(delegate, 0L);
		call.close(Status.OK, new Metadata());

		call.closeForShutdown(SHUTDOWN);

		assertThat(delegate.events).containsExactly("close OK");
		assertThat(call.isClosedForShutdown()).isFalse();
	}

	@Test
	void shutdownClosesRegisteredCallsAndThoseThatStartAfterwards() {
		FakeCall first = new FakeCall();
		FakeCall ended = new FakeCall();
		ClosableServerCall<String, String> running = new ClosableServerCall<>(first, 0L);
		ClosableServerCall<String, String> done = new ClosableServerCall<>(ended, 0L);
		this.calls.register(running, this.shutdown);
		this.calls.register(done, this.shutdown);
		this.calls.unregister(done);

		assertThat(this.shutdown.closeCalls(SHUTDOWN)).isEqualTo(1);
		assertThat(first.events).containsExactly("close UNAVAILABLE");
		assertThat(ended.events).isEmpty();

		FakeCall late = new FakeCall();
		this.calls.register(new ClosableServerCall<>(late, 0L), this.shutdown);
		assertThat(late.events).containsExactly("close UNAVAILABLE");
	}

	/** Records what it is asked; its sends of "slow" wait for a latch; notices overlapping use. */
	public static final class FakeCall extends ServerCall<String, String> {

		final List<String> events = new CopyOnWriteArrayList<>();

		final CountDownLatch sendEntered = new CountDownLatch(1);

		final CountDownLatch releaseSend = new CountDownLatch(1);

		final AtomicBoolean inUse = new AtomicBoolean();

		final AtomicBoolean overlapped = new AtomicBoolean();

		@Override
		public void request(int numMessages) {
		}

		@Override
		public void sendHeaders(Metadata headers) {
			use(() -> this.events.add("headers"));
		}

		@Override
		public void sendMessage(String message) {
			use(() -> {
				this.events.add("message " + message);
				if ("slow".equals(message)) {
					this.sendEntered.countDown();
					try {
						this.releaseSend.await(5, TimeUnit.SECONDS);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
				}
			});
		}

		@Override
		public void close(Status status, Metadata trailers) {
			use(() -> this.events.add("close " + status.getCode()));
		}

		private void use(Runnable action) {
			if (!this.inUse.compareAndSet(false, true)) {
				this.overlapped.set(true);
			}
			try {
				action.run();
			}
			finally {
				this.inUse.set(false);
			}
		}

		@Override
		public boolean isCancelled() {
			return false;
		}

		@Override
		public Attributes getAttributes() {
			return Attributes.EMPTY;
		}

		@Override
		public MethodDescriptor<String, String> getMethodDescriptor() {
			throw new UnsupportedOperationException();
		}

	}

}
