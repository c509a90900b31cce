package dev.grpckeepalive.test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** Records what a streaming call received and how, and when, it ended. */
public final class RecordingObserver<T> implements StreamObserver<T> {

	private final AtomicInteger messages = new AtomicInteger();

	private final CompletableFuture<Status> status = new CompletableFuture<>();

	private final long startedAt = System.nanoTime();

	private volatile long endedAt;

	@Override
	public void onNext(T value) {
		this.messages.incrementAndGet();
	}

	@Override
	public void onError(Throwable error) {
		this.endedAt = System.nanoTime();
		this.status.complete(Status.fromThrowable(error));
	}

	@Override
	public void onCompleted() {
		this.endedAt = System.nanoTime();
		this.status.complete(Status.OK);
	}

	public int messages() {
		return this.messages.get();
	}

	/** Whether the call has ended, successfully or not. */
	public boolean isDone() {
		return this.status.isDone();
	}

	/** Waits for the call to end and returns its status. */
	public Status awaitStatus(Duration timeout) throws Exception {
		return this.status.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	/** When the call ended, as {@link System#nanoTime()}. */
	public long endedAt() {
		return this.endedAt;
	}

	/** How long after its start the call ended. */
	public Duration lifetime() {
		return Duration.ofNanos(this.endedAt - this.startedAt);
	}

}
