package dev.grpckeepalive.sample;

import java.util.Set;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import dev.grpckeepalive.sample.proto.PriceServiceGrpc;
import dev.grpckeepalive.sample.proto.Quote;
import dev.grpckeepalive.sample.proto.QuoteRequest;
import dev.grpckeepalive.sample.proto.StreamPricesRequest;

import org.springframework.stereotype.Service;

/** The gRPC price service; being a {@code BindableService} bean is all it takes to be served. */
@Service
public class PriceService extends PriceServiceGrpc.PriceServiceImplBase {

	private final PriceBook priceBook;

	public PriceService(PriceBook priceBook) {
		this.priceBook = priceBook;
	}

	@Override
	public void getQuote(QuoteRequest request, StreamObserver<Quote> responseObserver) {
		this.priceBook.quote(request.getSymbol()).ifPresentOrElse((quote) -> {
			responseObserver.onNext(quote);
			responseObserver.onCompleted();
		}, () -> responseObserver.onError(Status.NOT_FOUND
			.withDescription("No instrument with symbol '" + request.getSymbol() + "'")
			.asRuntimeException()));
	}

	@Override
	public void streamPrices(StreamPricesRequest request, StreamObserver<Quote> responseObserver) {
		ServerCallStreamObserver<Quote> call = (ServerCallStreamObserver<Quote>) responseObserver;
		Set<String> symbols = Set.copyOf(request.getSymbolsList());
		Runnable unsubscribe = this.priceBook.subscribe((quote) -> {
			if (symbols.isEmpty() || symbols.contains(quote.getSymbol())) {
				synchronized (call) {
					if (!call.isCancelled()) {
						call.onNext(quote);
					}
				}
			}
		});
		// Keepalive, max-connection-age or the client going away all end up here.
		call.setOnCancelHandler(unsubscribe);
	}

}
