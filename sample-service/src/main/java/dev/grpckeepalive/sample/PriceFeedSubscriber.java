package dev.grpckeepalive.sample;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.grpckeepalive.sample.proto.PriceServiceGrpc;
import dev.grpckeepalive.sample.proto.Quote;
import dev.grpckeepalive.sample.proto.StreamPricesRequest;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Keeps a price stream open over the {@code prices} channel, as a downstream consumer
 * would, and re-subscribes with exponential backoff whenever the stream fails: after a
 * keepalive timeout, a max-connection-age cut-off or a server restart.
 *
 * <p>Stops before the gRPC server (a higher lifecycle phase), so that shutting down does
 * not have to wait out the server's shutdown grace for this application's own stream.
 */
@Component
@ConditionalOnBooleanProperty(name = "sample.subscribe", matchIfMissing = true)
public class PriceFeedSubscriber implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(PriceFeedSubscriber.class);

	private static final Duration MIN_BACKOFF = Duration.ofMillis(500);

	private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

	private final PriceServiceGrpc.PriceServiceStub prices;

	private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "price-feed-retry");
		thread.setDaemon(true);
		return thread;
	});

	private final AtomicLong ticksReceived = new AtomicLong();

	private volatile Context.CancellableContext subscription;

	private volatile boolean running;

	private Duration backoff = MIN_BACKOFF;

	public PriceFeedSubscriber(@Qualifier("prices") ManagedChannel channel) {
		this.prices = PriceServiceGrpc.newStub(channel);
	}

	@Override
	public void start() {
		this.running = true;
		subscribe();
	}

	private void subscribe() {
		if (!this.running) {
			return;
		}
		Context.CancellableContext context = Context.current().withCancellation();
		this.subscription = context;
		context.run(() -> this.prices.streamPrices(StreamPricesRequest.getDefaultInstance(), new FeedObserver()));
	}

	/** How many ticks this subscriber has received since it started. */
	public long ticksReceived() {
		return this.ticksReceived.get();
	}

	@Override
	public void stop() {
		this.running = false;
		Context.CancellableContext context = this.subscription;
		if (context != null) {
			context.cancel(null);
		}
		this.retries.shutdownNow();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	private final class FeedObserver implements StreamObserver<Quote> {

		@Override
		public void onNext(Quote quote) {
			long received = PriceFeedSubscriber.this.ticksReceived.incrementAndGet();
			PriceFeedSubscriber.this.backoff = MIN_BACKOFF;
			if (received % 100 == 1) {
				logger.info("Price feed tick #" + received + ": " + quote.getSymbol() + " "
						+ quote.getPriceMicros() / 1_000_000.0);
			}
		}

		@Override
		public void onError(Throwable error) {
			if (!PriceFeedSubscriber.this.running) {
				return;
			}
			Duration delay = PriceFeedSubscriber.this.backoff;
			PriceFeedSubscriber.this.backoff = min(delay.multipliedBy(2), MAX_BACKOFF);
			logger.warn("Price feed failed with " + Status.fromThrowable(error) + "; re-subscribing in "
					+ delay.toMillis() + "ms");
			PriceFeedSubscriber.this.retries.schedule(PriceFeedSubscriber.this::subscribe, delay.toMillis(),
					TimeUnit.MILLISECONDS);
		}

		@Override
		public void onCompleted() {
			onError(Status.UNAVAILABLE.withDescription("server completed the feed").asRuntimeException());
		}

		private static Duration min(Duration a, Duration b) {
			return (a.compareTo(b) <= 0) ? a : b;
		}

	}

}
