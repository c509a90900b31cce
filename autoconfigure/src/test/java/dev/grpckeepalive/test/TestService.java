package dev.grpckeepalive.test;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

/**
 * Test service whose calls last as long as the request says, and which records when the
 * server saw a call cancelled (for instance because grpc-java closed its connection).
 */
public class TestService extends TestServiceGrpc.TestServiceImplBase implements AutoCloseable {

	private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, (task) -> {
		Thread thread = new Thread(task, "test-service");
		thread.setDaemon(true);
		return thread;
	});

	/** How many calls the service has started handling. */
	public final AtomicInteger callsStarted = new AtomicInteger();

	/** {@link System#nanoTime()} of each cancellation the server observed. */
	public final CopyOnWriteArrayList<Long> cancellations = new CopyOnWriteArrayList<>();

	@Override
	public void echo(EchoRequest request, StreamObserver<EchoReply> responseObserver) {
		this.callsStarted.incrementAndGet();
		if (request.getDelayMillis() <= 0) {
			if (answer(request, responseObserver)) {
				responseObserver.onCompleted();
			}
			return;
		}
		ServerCallStreamObserver<EchoReply> observer = (ServerCallStreamObserver<EchoReply>) responseObserver;
		observer.setOnCancelHandler(() -> this.cancellations.add(System.nanoTime()));
		this.scheduler.schedule(() -> {
			if (!observer.isCancelled() && answer(request, observer)) {
				observer.onCompleted();
			}
		}, request.getDelayMillis(), TimeUnit.MILLISECONDS);
	}

	/** Answers one request: its text, or the status it asks for. Returns whether the call is still open. */
	private static boolean answer(EchoRequest request, StreamObserver<EchoReply> observer) {
		if (!request.getStatus().isEmpty()) {
			observer.onError(Status.Code.valueOf(request.getStatus()).toStatus()
				.withDescription("asked for " + request.getStatus())
				.asRuntimeException());
			return false;
		}
		observer.onNext(EchoReply.newBuilder().setText(request.getText()).build());
		return true;
	}

	@Override
	public StreamObserver<EchoRequest> chat(StreamObserver<EchoReply> responseObserver) {
		this.callsStarted.incrementAndGet();
		ServerCallStreamObserver<EchoReply> observer = (ServerCallStreamObserver<EchoReply>) responseObserver;
		observer.setOnCancelHandler(() -> this.cancellations.add(System.nanoTime()));
		return new StreamObserver<>() {

			private boolean open = true;

			@Override
			public void onNext(EchoRequest request) {
				if (this.open) {
					this.open = answer(request, observer);
				}
			}

			@Override
			public void onError(Throwable error) {
				// the client cancelled: nothing to answer
			}

			@Override
			public void onCompleted() {
				if (this.open) {
					observer.onCompleted();
				}
			}

		};
	}

	@Override
	public void stream(StreamRequest request, StreamObserver<StreamReply> responseObserver) {
		this.callsStarted.incrementAndGet();
		ServerCallStreamObserver<StreamReply> observer = (ServerCallStreamObserver<StreamReply>) responseObserver;
		observer.setOnCancelHandler(() -> this.cancellations.add(System.nanoTime()));
		// Respect flow control: a client that stops reading must not make the server buffer without bound.
		AtomicReference<Runnable> waitingForReady = new AtomicReference<>();
		observer.setOnReadyHandler(() -> resume(waitingForReady));
		send(observer, request, 0, waitingForReady);
	}

	private void send(ServerCallStreamObserver<StreamReply> observer, StreamRequest request, int sequence,
			AtomicReference<Runnable> waitingForReady) {
		if (observer.isCancelled()) {
			return;
		}
		if (sequence < request.getCount()) {
			if (!observer.isReady()) {
				waitingForReady.set(() -> send(observer, request, sequence, waitingForReady));
				if (observer.isReady()) {
					// it became ready before the continuation was in place
					resume(waitingForReady);
				}
				return;
			}
			StreamReply.Builder reply = StreamReply.newBuilder().setSequence(sequence);
			if (request.getPayloadSize() > 0) {
				reply.setPayload(ByteString.copyFrom(new byte[request.getPayloadSize()]));
			}
			observer.onNext(reply.build());
			this.scheduler.schedule(() -> send(observer, request, sequence + 1, waitingForReady),
					request.getIntervalMillis(), TimeUnit.MILLISECONDS);
			return;
		}
		this.scheduler.schedule(() -> {
			if (!observer.isCancelled()) {
				observer.onCompleted();
			}
		}, request.getHoldMillis(), TimeUnit.MILLISECONDS);
	}

	private void resume(AtomicReference<Runnable> waitingForReady) {
		Runnable continuation = waitingForReady.getAndSet(null);
		if (continuation != null) {
			this.scheduler.execute(continuation);
		}
	}

	@Override
	public void close() {
		this.scheduler.shutdownNow();
	}

}
