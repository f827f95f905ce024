// bottleneck/light.js (what plugin-throttling uses: no Redis clustering code) has the types of the full package.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
