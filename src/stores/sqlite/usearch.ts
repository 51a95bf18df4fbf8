export { usearch } from '../shared/usearch.js';
