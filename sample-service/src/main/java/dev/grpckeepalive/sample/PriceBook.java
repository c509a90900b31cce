package dev.grpckeepalive.sample;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import dev.grpckeepalive.sample.proto.Quote;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Simulated market: every tick each price takes a small random step, and every listener
 * receives the new quotes.
 */
@Component
public class PriceBook implements DisposableBean {

	private final Map<String, Quote> quotes = new LinkedHashMap<>();

	private final List<Consumer<Quote>> listeners = new CopyOnWriteArrayList<>();

	private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "price-ticker");
		thread.setDaemon(true);
		return thread;
	});

	private long sequence;

	public PriceBook(SampleProperties properties) {
		properties.symbols().forEach((symbol) -> this.quotes.put(symbol, quote(symbol, 100_000_000L)));
		long interval = properties.tickInterval().toMillis();
		this.ticker.scheduleAtFixedRate(this::tick, interval, interval, TimeUnit.MILLISECONDS);
	}

	public synchronized Optional<Quote> quote(String symbol) {
		return Optional.ofNullable(this.quotes.get(symbol));
	}

	/** Registers a listener for every future tick; the returned handle removes it. */
	public Runnable subscribe(Consumer<Quote> listener) {
		this.listeners.add(listener);
		return () -> this.listeners.remove(listener);
	}

	private void tick() {
		List<Quote> moved;
		synchronized (this) {
			this.quotes.replaceAll((symbol, last) -> {
				long step = ThreadLocalRandom.current().nextLong(-250_000, 250_001);
				return quote(symbol, Math.max(1, last.getPriceMicros() + step));
			});
			moved = List.copyOf(this.quotes.values());
		}
		moved.forEach((quote) -> this.listeners.forEach((listener) -> listener.accept(quote)));
	}

	private Quote quote(String symbol, long priceMicros) {
		return Quote.newBuilder()
			.setSymbol(symbol)
			.setPriceMicros(priceMicros)
			.setTimestampMillis(System.currentTimeMillis())
			.setSequence(++this.sequence)
			.build();
	}

	@Override
	public void destroy() {
		this.ticker.shutdownNow();
	}

}
