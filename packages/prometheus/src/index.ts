export { listenPrometheus, type PrometheusListenOptions, type PrometheusListener } from './listen';
export { Exporter, type ExporterOptions, type JournalHistograms, type View } from './exporter';
export { clusterPermanentId } from './cluster-id';
